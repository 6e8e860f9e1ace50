/*
 * fsio: execute a plan of file operations with exact syscalls.
 *
 * The plan is read from the file named by argv[1] (read twice, so not a pipe), one step per line:
 *   open SLOT PATH MODE          MODE: create (O_CREAT|O_TRUNC|O_RDWR), rw (O_RDWR), read (O_RDONLY)
 *   pwrite SLOT OFFSET LENGTH    one pwrite(2) of LENGTH bytes at OFFSET (short writes are an error)
 *   pread SLOT OFFSET LENGTH     one pread(2) of LENGTH bytes at OFFSET (a short read is an error)
 *   fsync SLOT                   fsync(2)
 *   syncfs PATH                  syncfs(2) on the filesystem holding PATH
 *   sync                         sync(2)
 *   close SLOT                   close(2)
 *   dontneed PATH                posix_fadvise(POSIX_FADV_DONTNEED) over the whole file
 *   drop_caches                  write "1" to /proc/sys/vm/drop_caches (global; avoid unless asked)
 *   mkdir PATH                   mkdir(2), mode 0755
 *   stat PATH                    prints "ino PATH INODE SIZE"
 *   resident PATH                prints "resident PATH PAGES_IN_CACHE PAGES_TOTAL" (mmap + mincore)
 *   fiemap PATH                  prints "extent PATH LOGICAL PHYSICAL LENGTH FLAGS" per extent (bytes)
 * Blank lines and lines starting with '#' are ignored. Nothing else is done between steps:
 * each step is exactly the syscalls named above, so the kernel's counts are attributable to them.
 *
 * Invariant: the data buffer is page-aligned and filled with a non-zero pattern once, before the
 * first step, so no page fault or allocation of the writer happens inside the measured steps.
 * Exit status: 0 on success, 1 when a step fails (message names the plan line), 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_SLOTS 64
#define MAX_LINE 4096
#define MAX_EXTENTS 512

static int slots[MAX_SLOTS];
static char *buf;
static size_t buf_len;

static void die_step(long lineno, const char *what, const char *arg)
{
	fprintf(stderr, "fsio: plan line %ld: %s %s: %s\n", lineno, what, arg ? arg : "", strerror(errno));
	exit(1);
}

static void die_parse(long lineno, const char *why)
{
	fprintf(stderr, "fsio: plan line %ld: %s\n", lineno, why);
	exit(2);
}

static int slot_fd(long lineno, long slot)
{
	if (slot < 0 || slot >= MAX_SLOTS || slots[slot] < 0)
		die_parse(lineno, "slot is not open");
	return slots[slot];
}

static void buffer_ensure(size_t len)
{
	if (len <= buf_len)
		return;
	free(buf);
	if (posix_memalign((void **)&buf, 4096, len) != 0) {
		fprintf(stderr, "fsio: cannot allocate %zu bytes\n", len);
		exit(1);
	}
	memset(buf, 0xa5, len);
	buf_len = len;
}

static void fiemap_print(long lineno, const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die_step(lineno, "open", path);
	size_t sz = sizeof(struct fiemap) + MAX_EXTENTS * sizeof(struct fiemap_extent);
	struct fiemap *fm = calloc(1, sz);
	uint64_t start = 0;
	for (;;) {
		memset(fm, 0, sz);
		fm->fm_start = start;
		fm->fm_length = FIEMAP_MAX_OFFSET - start;
		fm->fm_flags = FIEMAP_FLAG_SYNC;
		fm->fm_extent_count = MAX_EXTENTS;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0)
			die_step(lineno, "fiemap", path);
		if (fm->fm_mapped_extents == 0)
			break;
		int last = 0;
		for (unsigned i = 0; i < fm->fm_mapped_extents; i++) {
			struct fiemap_extent *e = &fm->fm_extents[i];
			printf("extent %s %llu %llu %llu %u\n", path, (unsigned long long)e->fe_logical,
			       (unsigned long long)e->fe_physical, (unsigned long long)e->fe_length, e->fe_flags);
			start = e->fe_logical + e->fe_length;
			if (e->fe_flags & FIEMAP_EXTENT_LAST)
				last = 1;
		}
		if (last)
			break;
	}
	free(fm);
	close(fd);
}

static void resident_print(long lineno, const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die_step(lineno, "open", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		die_step(lineno, "fstat", path);
	long page = sysconf(_SC_PAGESIZE);
	size_t pages = (st.st_size + page - 1) / page, in_core = 0;
	if (pages > 0) {
		void *map = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			die_step(lineno, "mmap", path);
		unsigned char *vec = malloc(pages);
		if (mincore(map, st.st_size, vec) < 0)
			die_step(lineno, "mincore", path);
		for (size_t i = 0; i < pages; i++)
			in_core += vec[i] & 1;
		free(vec);
		munmap(map, st.st_size);
	}
	printf("resident %s %zu %zu\n", path, in_core, pages);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fsio PLAN-FILE\n");
		return 2;
	}
	FILE *in = fopen(argv[1], "r");
	if (!in) {
		fprintf(stderr, "fsio: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	for (int i = 0; i < MAX_SLOTS; i++)
		slots[i] = -1;

	/* Pre-size the buffer from the largest pwrite/pread so the measured steps never allocate. */
	char line[MAX_LINE];
	size_t max_len = 4096;
	long lineno = 0;
	while (fgets(line, sizeof(line), in)) {
		char op[32];
		long slot;
		unsigned long long off, len;
		if (sscanf(line, "%31s %ld %llu %llu", op, &slot, &off, &len) == 4 &&
		    (strcmp(op, "pwrite") == 0 || strcmp(op, "pread") == 0) && len > max_len)
			max_len = len;
	}
	buffer_ensure(max_len);
	rewind(in);

	while (fgets(line, sizeof(line), in)) {
		lineno++;
		size_t n = strlen(line);
		if (n && line[n - 1] == '\n')
			line[--n] = 0;
		if (n == 0 || line[0] == '#')
			continue;
		char op[32], path[MAX_LINE], mode[32];
		long slot;
		unsigned long long off, len;
		if (sscanf(line, "%31s", op) != 1)
			die_parse(lineno, "no operation");
		if (strcmp(op, "open") == 0) {
			if (sscanf(line, "%*s %ld %4095s %31s", &slot, path, mode) != 3 || slot < 0 || slot >= MAX_SLOTS)
				die_parse(lineno, "open needs SLOT PATH MODE");
			int flags = strcmp(mode, "create") == 0 ? O_CREAT | O_TRUNC | O_RDWR
				    : strcmp(mode, "rw") == 0   ? O_RDWR
				    : strcmp(mode, "read") == 0 ? O_RDONLY
								: -1;
			if (flags < 0)
				die_parse(lineno, "open MODE must be create, rw or read");
			int fd = open(path, flags | O_CLOEXEC, 0644);
			if (fd < 0)
				die_step(lineno, "open", path);
			slots[slot] = fd;
		} else if (strcmp(op, "pwrite") == 0 || strcmp(op, "pread") == 0) {
			if (sscanf(line, "%*s %ld %llu %llu", &slot, &off, &len) != 3)
				die_parse(lineno, "pwrite/pread needs SLOT OFFSET LENGTH");
			int fd = slot_fd(lineno, slot);
			ssize_t r = op[1] == 'w' ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
			if (r < 0)
				die_step(lineno, op, NULL);
			if ((unsigned long long)r != len) {
				fprintf(stderr, "fsio: plan line %ld: short %s: %zd of %llu bytes\n", lineno, op, r, len);
				return 1;
			}
		} else if (strcmp(op, "fsync") == 0) {
			if (sscanf(line, "%*s %ld", &slot) != 1)
				die_parse(lineno, "fsync needs SLOT");
			if (fsync(slot_fd(lineno, slot)) < 0)
				die_step(lineno, "fsync", NULL);
		} else if (strcmp(op, "close") == 0) {
			if (sscanf(line, "%*s %ld", &slot) != 1)
				die_parse(lineno, "close needs SLOT");
			if (close(slot_fd(lineno, slot)) < 0)
				die_step(lineno, "close", NULL);
			slots[slot] = -1;
		} else if (strcmp(op, "sync") == 0) {
			sync();
		} else if (strcmp(op, "syncfs") == 0 || strcmp(op, "dontneed") == 0 || strcmp(op, "mkdir") == 0 ||
			   strcmp(op, "stat") == 0 || strcmp(op, "fiemap") == 0 || strcmp(op, "resident") == 0) {
			if (sscanf(line, "%*s %4095s", path) != 1)
				die_parse(lineno, "operation needs PATH");
			if (strcmp(op, "syncfs") == 0) {
				int fd = open(path, O_RDONLY | O_CLOEXEC);
				if (fd < 0 || syncfs(fd) < 0)
					die_step(lineno, "syncfs", path);
				close(fd);
			} else if (strcmp(op, "dontneed") == 0) {
				int fd = open(path, O_RDONLY | O_CLOEXEC);
				if (fd < 0)
					die_step(lineno, "open", path);
				int e = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
				if (e) {
					errno = e;
					die_step(lineno, "posix_fadvise", path);
				}
				close(fd);
			} else if (strcmp(op, "mkdir") == 0) {
				if (mkdir(path, 0755) < 0)
					die_step(lineno, "mkdir", path);
			} else if (strcmp(op, "stat") == 0) {
				struct stat st;
				if (stat(path, &st) < 0)
					die_step(lineno, "stat", path);
				printf("ino %s %llu %llu\n", path, (unsigned long long)st.st_ino,
				       (unsigned long long)st.st_size);
			} else if (strcmp(op, "fiemap") == 0) {
				fiemap_print(lineno, path);
			} else {
				resident_print(lineno, path);
			}
		} else if (strcmp(op, "drop_caches") == 0) {
			int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, "1", 1) != 1)
				die_step(lineno, "drop_caches", NULL);
			close(fd);
		} else {
			die_parse(lineno, "unknown operation");
		}
	}
	fflush(stdout);
	return 0;
}
