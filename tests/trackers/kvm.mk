# kvm tracker tests
