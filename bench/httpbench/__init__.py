"""The HTTP benchmark's parts; bench/http_load.py wires them together.

fixtures (the database and its book of business, the customers' tokens), server (`renewquote
serve` and its workers), cpu (CPU time from /proc), load (wrk runs and the server's /metrics),
inserts (the quotes written, and the plain-insert limit), report (the tables and verdicts).
"""
