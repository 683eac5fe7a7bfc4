# kvm: sources appended to proto_liblfbshm_a_SOURCES
