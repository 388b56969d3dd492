"""The `cme-broker` command line: thin commands over the composition root, no logic here."""
