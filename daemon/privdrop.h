/*
 * privdrop.h - a worker gives up root before it serves the network.
 *
 * After its backend is open (the Xen handles restricted to the guest's
 * domain with xentoolcore_restrict_all), the worker switches to the
 * configured unprivileged user (`user' in lfbvncd.conf), keeps no
 * supplementary groups, forbids itself new privileges (no_new_privs) and
 * core dumps of guest pixels (not dumpable).  Only then are clients
 * accepted.
 *
 * Error convention: 0 or a negative errno with a reason in why.
 */
#ifndef LFBVNC_PRIVDROP_H
#define LFBVNC_PRIVDROP_H

#include <stddef.h>

int privdrop(const char *user, char *why, size_t whylen);

#endif /* LFBVNC_PRIVDROP_H */
