/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/socket.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"

static int group_id(const char *name, gid_t *out)
{
    char buf[4096];
    struct group gr, *res = NULL;
    char *end;
    unsigned long v = strtoul(name, &end, 10);

    if (*name && !*end) {
        *out = (gid_t)v;
        return 0;
    }
    int r = getgrnam_r(name, &gr, buf, sizeof(buf), &res);
    if (r || !res)
        return r ? -r : -ENOENT;
    *out = res->gr_gid;
    return 0;
}

int vfsd_socket_listen(const char *path, const char *group)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct stat st;
    gid_t gid = 0;

    if (strlen(path) >= sizeof(addr.sun_path))
        return -ENAMETOOLONG;
    if (group && group_id(group, &gid) < 0) {
        log_error("unknown socket group '%s'", group);
        return -EINVAL;
    }
    strcpy(addr.sun_path, path);
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            log_error("%s exists and is not a socket", path);
            return -EEXIST;
        }
        unlink(path);
    }

    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return neg_errno();
    /* Created with no access for others from the first moment. */
    mode_t old = umask(0177);
    int r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    umask(old);
    if (r < 0)
        return neg_errno();
    if (group) {
        if (chown(path, (uid_t)-1, gid) < 0 || chmod(path, 0660) < 0) {
            r = neg_errno();
            unlink(path);
            return r;
        }
    }
    if (listen(fd, 1) < 0) {
        r = neg_errno();
        unlink(path);
        return r;
    }
    return TAKE_FD(fd);
}

int vfsd_socket_check_fd(int fd)
{
    int type = 0, listening = 0;
    socklen_t len = sizeof(type);
    struct sockaddr_un addr;
    socklen_t alen = sizeof(addr);

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return neg_errno();
    len = sizeof(listening);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
        return neg_errno();
    if (getsockname(fd, (struct sockaddr *)&addr, &alen) < 0)
        return neg_errno();
    if (type != SOCK_STREAM || !listening || addr.sun_family != AF_UNIX)
        return -ENOTSOCK;
    return 0;
}
