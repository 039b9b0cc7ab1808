"""Step 1: analysers of reference photos (and an optional reference video), each returning one typed result."""
