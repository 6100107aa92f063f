"""The web portal: the pages customers, partners and staff click through, in French and
English, over the same services as the API (a page is one more caller of the service layer)."""
