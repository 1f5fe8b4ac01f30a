"""Check results rendered for people (text), programs (JSON), CI systems (JUnit XML) and browsers (Data Docs)."""
