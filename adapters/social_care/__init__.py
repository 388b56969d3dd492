"""Children's social care: the front door for safeguarding escalations, and answers to locate
enquiries (issue 5)."""
