/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "seccomp/sandbox.h"

/*
 * What serving files as any guest user needs: changing owners and modes,
 * bypassing permission checks (the guest kernel made them), switching fs
 * credentials, device nodes and file capabilities.
 */
static const int kept[] = {
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_SETGID, CAP_SETUID, CAP_MKNOD,
    CAP_SETFCAP,
};

static int apply_modcaps(const char *modcaps)
{
    _cleanup_free_ char *copy = strdup(modcaps);
    char *save = NULL;
    if (!copy)
        return -ENOMEM;
    for (char *item = strtok_r(copy, ":", &save); item; item = strtok_r(NULL, ":", &save)) {
        if ((item[0] != '+' && item[0] != '-') || !item[1]) {
            log_error("--modcaps: '%s' must start with + or -", item);
            return -EINVAL;
        }
        const char *name = item + 1;
        if (strncasecmp(name, "cap_", 4) == 0)
            name += 4;
        int cap = capng_name_to_capability(name);
        if (cap < 0) {
            log_error("--modcaps: unknown capability '%s'", item + 1);
            return -EINVAL;
        }
        capng_update(item[0] == '+' ? CAPNG_ADD : CAPNG_DROP,
                     CAPNG_EFFECTIVE | CAPNG_PERMITTED, (unsigned)cap);
    }
    return 0;
}

bool sbx_modcaps_drops(const char *modcaps, int cap)
{
    if (!modcaps)
        return false;
    _cleanup_free_ char *copy = strdup(modcaps);
    char *save = NULL;
    bool drops = false;
    if (!copy)
        return false;
    for (char *item = strtok_r(copy, ":", &save); item; item = strtok_r(NULL, ":", &save)) {
        if ((item[0] != '+' && item[0] != '-') || !item[1])
            continue;
        const char *name = item + 1;
        if (strncasecmp(name, "cap_", 4) == 0)
            name += 4;
        if (capng_name_to_capability(name) == cap)
            drops = item[0] == '-';
    }
    return drops;
}

int sbx_caps_drop(const char *modcaps)
{
    return sbx_caps_drop_keep(modcaps, NULL, 0);
}

int sbx_caps_drop_keep(const char *modcaps, const int *extra, size_t nextra)
{
    if (geteuid() != 0)
        return 0;
    /*
     * Files are created with the guest's uid and gid as fs ids, but the
     * supplementary groups stay the daemon's: started with group root among
     * them (sudo, most service managers), a guest user creating a file in
     * a setgid directory of group root would keep S_ISGID on it, and the
     * host's permission checks would count root's groups. No request needs
     * them. Before any thread exists: glibc applies it to every thread.
     */
    if (setgroups(0, NULL) < 0) {
        log_error("cannot drop the supplementary groups: %s", strerror(errno));
        return -EPERM;
    }
    capng_clear(CAPNG_SELECT_BOTH);
    for (size_t i = 0; i < ARRAY_SIZE(kept); i++)
        capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, (unsigned)kept[i]);
    for (size_t i = 0; i < nextra; i++)
        capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, (unsigned)extra[i]);
    if (modcaps) {
        int r = apply_modcaps(modcaps);
        if (r < 0)
            return r;
    }
    if (capng_apply(CAPNG_SELECT_BOTH) < 0) {
        log_error("cannot drop capabilities");
        return -EPERM;
    }
    return 0;
}
