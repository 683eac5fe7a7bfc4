# kvm: sources appended to proto_liblfbshm_a_SOURCES
proto_liblfbshm_a_SOURCES += proto/kvm-vm.c proto/kvm-vm.h proto/tracker-kvm.c
