/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The listening vhost-user socket. */
#ifndef DAEMON_SOCKET_H
#define DAEMON_SOCKET_H

/*
 * Creates a listening unix socket at path (a stale socket there is
 * replaced; any other file is an error), owned by `group` with mode 0660
 * when group is given, else 0600. Returns the fd or -errno.
 */
int vfsd_socket_listen(const char *path, const char *group);

/* Checks that fd is a listening unix stream socket. */
int vfsd_socket_check_fd(int fd);

#endif
