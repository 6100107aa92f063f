"""What leaves the process for people: the quote as a PDF (mail, links and webhooks to come)."""
