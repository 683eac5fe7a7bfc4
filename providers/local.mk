# providers: see the top-level Makefile.am
