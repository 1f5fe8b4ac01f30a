"""One module per ``klenty-wh`` command; each parses options, calls the library, renders."""
