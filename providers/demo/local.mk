# providers/demo
