// SPDX-License-Identifier: MIT
/* vfio-check GROUP...: asks the kernel whether each VFIO group is viable, the judge of device
 * assignment. Prints one line per group:
 *   group N status=0x... viable=0|1 set_container=ok|ERRNO-NAME
 * VFIO_GROUP_GET_STATUS gives the viable flag; VFIO_GROUP_SET_CONTAINER is what a VMM does
 * next, and fails (EPERM on 6.1) when the group is not viable. Built static on the host
 * (tests/vm/capture.sh) to run in the busybox initramfs. Exit status 0 unless misused. */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char* errno_name(int e) {
  switch (e) {
    case EPERM:
      return "EPERM";
    case EBUSY:
      return "EBUSY";
    case EINVAL:
      return "EINVAL";
    case ENOENT:
      return "ENOENT";
    case ENODEV:
      return "ENODEV";
    case EACCES:
      return "EACCES";
    default:
      return strerror(e);
  }
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: vfio-check GROUP...\n");
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    char path[64];
    snprintf(path, sizeof path, "/dev/vfio/%s", argv[i]);
    int group = open(path, O_RDWR);
    if (group < 0) {
      printf("group %s open=%s\n", argv[i], errno_name(errno));
      continue;
    }
    struct vfio_group_status status = {.argsz = sizeof status};
    if (ioctl(group, VFIO_GROUP_GET_STATUS, &status) < 0) {
      printf("group %s get_status=%s\n", argv[i], errno_name(errno));
      close(group);
      continue;
    }
    int container = open("/dev/vfio/vfio", O_RDWR);
    const char* set = "no-container";
    if (container >= 0) {
      set = ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0 ? errno_name(errno) : "ok";
    }
    printf("group %s status=%#x viable=%d set_container=%s\n", argv[i], status.flags,
           (status.flags & VFIO_GROUP_FLAGS_VIABLE) ? 1 : 0, set);
    if (container >= 0) close(container);
    close(group);
  }
  return 0;
}
