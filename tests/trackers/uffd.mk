# uffd/softdirty/none tracker tests
