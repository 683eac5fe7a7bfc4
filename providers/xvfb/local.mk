# providers/xvfb
