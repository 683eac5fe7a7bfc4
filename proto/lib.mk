# lib: the codec (wire), the consumer and the provider APIs.
proto_liblfbshm_a_SOURCES += \
	proto/wire.c proto/wire.h \
	proto/consumer.c proto/lfbshm-consumer.h \
	proto/provider.c proto/lfbshm-provider.h
