# providers/guest
