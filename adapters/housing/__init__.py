"""Housing adapter: answers locate enquiries from tenancy records (issue 5)."""
