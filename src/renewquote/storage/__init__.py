"""Tables, the database connection, and the migrations that build them."""
