// SPDX-License-Identifier: MIT
// iommufd-record: asks a guest kernel, for every PCI function bound to vfio-pci with a vfio cdev,
// what VFIO_DEVICE_BIND_IOMMUFD and IOMMU_GET_HW_INFO answer, and prints the answers as an
// iommufd replay file (docs/iommufd-replay.md), the format libcaps' iommufd source replays.
// Runs in the VM tier's busybox initramfs (tests/vm/iommufd-steps.sh); built static on the host
// at test time (gcc -static, aarch64-linux-gnu-gcc -static). No IOAS, no domain, no mapping:
// closing the device file undoes the bind.
//
// The structures are written out here rather than taken from <linux/iommufd.h>: the host's
// headers (Debian 12: 6.1) are older than the guest kernel. They are copied from the uapi of the
// kernel the guests boot, Debian's linux-source-7.3 7.3.4-1~bpo13+1:
//   include/uapi/linux/iommufd.h: IOMMUFD_TYPE ';' (line 10), IOMMUFD_CMD_GET_HW_INFO 0x8a
//     (line 49), struct iommu_hw_info (lines 799-812), enum iommu_hw_info_type (717-724),
//     struct iommu_hw_info_vtd (598-603), struct iommu_hw_info_arm_smmuv3 (650-656);
//   include/uapi/linux/vfio.h: VFIO_TYPE ';', VFIO_BASE 100 (71-72),
//     struct vfio_device_bind_iommufd (931-938), VFIO_DEVICE_BIND_IOMMUFD VFIO_BASE + 18 (940).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define IOMMUFD_TYPE ';'
#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, 0x8a)
#define VFIO_TYPE ';'
#define VFIO_BASE 100
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)

struct vfio_device_bind_iommufd {
  uint32_t argsz;
  uint32_t flags;
  int32_t iommufd;
  uint32_t out_devid;
  uint64_t token_uuid_ptr __attribute__((aligned(8)));  // 7.3; the kernel's minimum ends at out_devid
};

struct iommu_hw_info {
  uint32_t size;
  uint32_t flags;
  uint32_t dev_id;
  uint32_t data_len;
  uint64_t data_uptr __attribute__((aligned(8)));
  uint32_t out_data_type;  // a union with in_data_type (IOMMU_HW_INFO_FLAG_INPUT_TYPE unset: 0)
  uint8_t out_max_pasid_log2;
  uint8_t reserved[3];
  uint64_t out_capabilities __attribute__((aligned(8)));
};
_Static_assert(sizeof(struct iommu_hw_info) == 40, "struct iommu_hw_info of 7.3 is 40 bytes");
_Static_assert(offsetof(struct iommu_hw_info, out_capabilities) == 32, "layout of 7.3");
_Static_assert(sizeof(struct vfio_device_bind_iommufd) == 24, "vfio_device_bind_iommufd of 7.3");

static const char* errname(int e) {
  switch (e) {
    case 0: return "OK";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EIO: return "EIO";
    case EBADF: return "EBADF";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case ENOTTY: return "ENOTTY";
    case E2BIG: return "E2BIG";
    case ENXIO: return "ENXIO";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EOVERFLOW: return "EOVERFLOW";
  }
  static char buf[32];
  snprintf(buf, sizeof buf, "errno%d", e);
  return buf;
}

// One IOMMU_GET_HW_INFO with `size` bytes of struct (the bytes past 40 zero, except `poke`, an
// offset set to 0xff when >= 0), into `data`/`data_len`. Returns 0 or errno; *out gets the struct.
static int hw_info(int iommufd, uint32_t dev_id, uint32_t size, int poke, void* data,
                   uint32_t data_len, struct iommu_hw_info* out) {
  unsigned char buf[128];
  memset(buf, 0, sizeof buf);
  struct iommu_hw_info* h = (struct iommu_hw_info*)buf;
  h->size = size;
  h->dev_id = dev_id;
  h->data_len = data_len;
  h->data_uptr = (uintptr_t)data;
  if (poke >= 0) buf[poke] = 0xff;
  int rc = ioctl(iommufd, IOMMU_GET_HW_INFO, buf) ? errno : 0;
  memcpy(out, buf, sizeof *out);
  return rc;
}

// BDF of the PCI function whose vfio-dev directory holds cdev `name`.
static int bdf_of(const char* name, char* bdf, size_t n) {
  DIR* d = opendir("/sys/bus/pci/devices");
  if (!d) return -1;
  struct dirent* e;
  int found = -1;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char p[600];
    snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/vfio-dev/%s", e->d_name, name);
    if (access(p, F_OK) == 0) {
      snprintf(bdf, n, "%s", e->d_name);
      found = 0;
      break;
    }
  }
  closedir(d);
  return found;
}

static int by_name(const struct dirent** a, const struct dirent** b) {
  size_t la = strlen((*a)->d_name), lb = strlen((*b)->d_name);  // vfio2 before vfio10
  return la != lb ? (la < lb ? -1 : 1) : strcmp((*a)->d_name, (*b)->d_name);
}
static int is_vfio(const struct dirent* e) { return strncmp(e->d_name, "vfio", 4) == 0; }

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}
static int by_value(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}
#define ROUNDS 15
// What the iommufd path costs the kernel per device, step by step, as the probe takes it:
// open the cdev, VFIO_DEVICE_BIND_IOMMUFD, IOMMU_GET_HW_INFO, close (vfio-pci enables and resets
// the function at open and at close). ROUNDS rounds; the median and the slowest, in
// microseconds, on stderr (iommufd.stderr of the capture): timings change from boot to boot, so
// they stay out of the replay file the fixture keeps.
static void cost(const char* cdev, int iommufd) {
  char path[300];
  snprintf(path, sizeof path, "/dev/vfio/devices/%s", cdev);
  double t[4][ROUNDS];
  for (int r = 0; r < ROUNDS; ++r) {
    double a = now_us();
    int fd = open(path, O_RDWR | O_CLOEXEC);
    double b = now_us();
    if (fd < 0) {
      fprintf(stderr, "cost %s: not measured: open %s\n", cdev, errname(errno));
      return;
    }
    struct vfio_device_bind_iommufd bind;
    memset(&bind, 0, sizeof bind);
    bind.argsz = sizeof bind;
    bind.iommufd = iommufd;
    int e = ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind);
    int bind_error = e ? errno : 0;
    double c = now_us();
    struct iommu_hw_info out;
    unsigned char data[256];
    if (!e) hw_info(iommufd, bind.out_devid, sizeof out, -1, data, sizeof data, &out);
    double d = now_us();
    close(fd);
    double f = now_us();
    if (e) {
      fprintf(stderr, "cost %s: not measured: bind %s\n", cdev, errname(bind_error));
      return;
    }
    t[0][r] = b - a, t[1][r] = c - b, t[2][r] = d - c, t[3][r] = f - d;
  }
  static const char* step[4] = {"open", "bind", "hw_info", "close"};
  fprintf(stderr, "cost %s (%d rounds, us, median/max):", cdev, ROUNDS);
  double total = 0;
  for (int k = 0; k < 4; ++k) {
    qsort(t[k], ROUNDS, sizeof(double), by_value);
    total += t[k][ROUNDS / 2];
    fprintf(stderr, " %s %.0f/%.0f", step[k], t[k][ROUNDS / 2], t[k][ROUNDS - 1]);
  }
  fprintf(stderr, " total %.0f\n", total);
}

int main(void) {
  printf("# iommufd replay file written by tests/vm/iommufd-record (docs/iommufd-replay.md)\n");
  int iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
  int iommu_error = iommufd < 0 ? errno : 0;
  printf("iommu open=%s\n", errname(iommu_error));
  struct dirent** names = NULL;
  int n = scandir("/dev/vfio/devices", &names, is_vfio, by_name);
  if (n < 0) {
    printf("# /dev/vfio/devices: %s\n", errname(errno));
    return 0;
  }
  for (int i = 0; i < n; ++i) {
    const char* cdev = names[i]->d_name;
    char bdf[256] = "?";
    bdf_of(cdev, bdf, sizeof bdf);
    char path[300];
    snprintf(path, sizeof path, "/dev/vfio/devices/%s", cdev);
    printf("# %s: pci %s\n", cdev, bdf);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      printf("device %s open=%s\n", cdev, errname(errno));
      continue;
    }
    if (iommufd < 0) {
      printf("device %s open=OK bind=EBADF\n", cdev);
      close(fd);
      continue;
    }
    struct vfio_device_bind_iommufd bind;
    memset(&bind, 0, sizeof bind);
    bind.argsz = sizeof bind;
    bind.iommufd = iommufd;
    if (ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
      printf("device %s open=OK bind=%s\n", cdev, errname(errno));
      close(fd);
      continue;
    }
    // The struct sizes this kernel accepts: below its minimum EINVAL; a non-zero byte past its
    // own size E2BIG (copy_struct_from_user). The smallest offset that gives E2BIG is its size.
    struct iommu_hw_info out;
    unsigned char probe[8];
    printf("# %s sizes:", cdev);
    for (uint32_t s = 8; s <= 40; s += 8) {
      int e = hw_info(iommufd, bind.out_devid, s, -1, probe, 0, &out);
      printf(" %u=%s", s, errname(e));
    }
    uint32_t kernel_size = 0;
    for (int off = 32; off < 128 && !kernel_size; off += 8) {
      int e = hw_info(iommufd, bind.out_devid, 128, off, probe, 0, &out);
      printf(" 128+byte@%d=%s", off, errname(e));
      if (e == E2BIG) kernel_size = off;
    }
    printf("\n");
    // data_len 0 first: the kernel reports the length of its vendor structure; then the data.
    int e = hw_info(iommufd, bind.out_devid, sizeof out, -1, probe, 0, &out);
    uint32_t want = out.data_len;
    printf("# %s data_len=0 asks: %s type=%u data_len=%u\n", cdev, errname(e), out.out_data_type,
           want);
    unsigned char data[4096];
    memset(data, 0, sizeof data);
    e = hw_info(iommufd, bind.out_devid, sizeof out, -1, data, sizeof data, &out);
    printf("device %s open=OK bind=OK dev_id=%u hw_info=%s", cdev, bind.out_devid, errname(e));
    if (e == 0) {
      uint32_t len = out.data_len < sizeof data ? out.data_len : (uint32_t)sizeof data;
      printf(" size=%u type=%u caps=0x%llx pasid_log2=%u data=", kernel_size ? kernel_size : 40,
             out.out_data_type, (unsigned long long)out.out_capabilities, out.out_max_pasid_log2);
      if (len == 0) printf("-");
      for (uint32_t b = 0; b < len; ++b) printf("%02x", data[b]);
      printf("\n# %s data as 32-bit words:", cdev);
      for (uint32_t b = 0; b + 4 <= len; b += 4) {
        uint32_t w;
        memcpy(&w, data + b, 4);
        printf(" %08x", w);
      }
    }
    printf("\n");
    close(fd);
  }
  if (iommufd >= 0) {
    for (int i = 0; i < n; ++i) cost(names[i]->d_name, iommufd);
  }
  for (int i = 0; i < n; ++i) free(names[i]);
  free(names);
  if (iommufd >= 0) close(iommufd);
  return 0;
}
