# docs: see the top-level Makefile.am
