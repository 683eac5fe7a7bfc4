# docs: notes in Markdown (and their figures).  They are copied into the
# tarball by name pattern at "make dist" time, so adding a note needs no
# edit here.
dist-hook: dist-docs
dist-docs:
	@$(MKDIR_P) '$(distdir)/docs'
	@for f in '$(srcdir)'/docs/*.md '$(srcdir)'/docs/*.txt \
	    '$(srcdir)'/docs/*.svg '$(srcdir)'/docs/*.png; do \
	  test -f "$$f" || continue; \
	  cp -p "$$f" '$(distdir)/docs/' || exit 1; \
	done
.PHONY: dist-docs
