/*
 * kprobe: replays the VM steps of a foliolab workload on the live kernel and reports, at each observe,
 * what /proc/PID/pagemap, /proc/kpagecount and /proc/kpageflags say about every observed page.
 *
 * One coordinator (this process) and one real process per workload `proc`:
 *   - spawn: a fresh child of the coordinator, created before it maps anything;
 *   - fork:  the real fork(2) of the workload process; the forking process makes the child's command
 *            socket first and hands the coordinator its end with SCM_RIGHTS.
 * Workload processes only execute syscalls on absolute addresses; the coordinator keeps every process's
 * region table (name -> address, size), copies it on fork, and resolves region+offset itself.
 *
 * Invariant: while the coordinator reads pagemap/kpagecount, every workload process is blocked in recv()
 * waiting for its next command, so the page tables it reads are quiescent. An exiting process has finished
 * exit_mm() when its socket reaches EOF (exit_files() runs after exit_mm() in do_exit()).
 *
 * Input (stdin, one command per line; P/C = process ids, R/T = region ids, sizes in bytes):
 *   spawn P | mmap P R LEN ALIGN PROT ADVICE | touch P R OFF LEN WRITE | fork P C | exit P
 *   munmap P R OFF LEN | mremap P R OFF LEN T NEWLEN ALIGN | mprotect P R OFF LEN PROT
 *   madvise P R OFF LEN ADVICE | observe ID R OFF LEN N P1..PN
 * Output (stdout): one JSON line per observe, then "done". Errors: one line on stderr, exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096ULL
#define MAXP 256
#define MAXR 256
#define CHAN_FD 3

#define PM_PFN_MASK ((1ULL << 55) - 1)
#define PM_MMAP_EXCLUSIVE (1ULL << 56)
#define PM_SWAP (1ULL << 62)
#define PM_PRESENT (1ULL << 63)
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_THP 22

enum op { OP_MMAP = 1, OP_TOUCH, OP_FORK, OP_EXIT, OP_MUNMAP, OP_MREMAP, OP_MPROTECT, OP_MADVISE };

struct cmd {
	int32_t op;
	int32_t flag; /* prot, advice or write */
	uint64_t addr, len, newlen, align;
};

struct reply {
	int32_t err; /* errno, 0 = ok */
	int32_t pid; /* fork: the child's pid */
	uint64_t addr;
	char what[32]; /* the syscall that failed */
};

/* ---------------------------------------------------------------- workload process side */

static sigjmp_buf touch_jmp;
static volatile sig_atomic_t touching;

static void on_segv(int sig)
{
	(void)sig;
	if (touching)
		siglongjmp(touch_jmp, 1);
	_exit(139);
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/*
 * Reserve len + 2*align of PROT_NONE address space and return the first multiple of `align` strictly
 * above the reservation's start: at least one guard page below and `align` bytes above stay PROT_NONE,
 * so the region never merges with a neighbour and a THP fault sees exactly the region's VMA.
 */
static uint64_t reserve_aligned(uint64_t len, uint64_t align)
{
	void *res = mmap(NULL, len + 2 * align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return 0;
	return align_up((uint64_t)res + 1, align);
}

/* One byte read or written per page of [addr, addr+len); a fault (SIGSEGV/SIGBUS) fails with EFAULT. */
static __attribute__((noinline)) int touch_range(uint64_t addr, uint64_t len, int write)
{
	volatile char *volatile p = (volatile char *)(addr & ~(PAGE - 1));
	volatile char *end = (volatile char *)(addr + len);
	touching = 1;
	if (sigsetjmp(touch_jmp, 1)) {
		touching = 0;
		errno = EFAULT;
		return -1;
	}
	for (; p < end; p += PAGE) {
		if (write)
			*p = 1;
		else
			(void)*p;
	}
	touching = 0;
	return 0;
}

static void reply_send(int fd, struct reply *r, int pass_fd)
{
	struct iovec iov = { .iov_base = r, .iov_len = sizeof(*r) };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (pass_fd >= 0) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	if (sendmsg(fd, &mh, 0) != (ssize_t)sizeof(*r))
		_exit(120);
}

static void fail(struct reply *r, const char *what)
{
	r->err = errno ? errno : EINVAL;
	snprintf(r->what, sizeof(r->what), "%s", what);
}

/* Executes commands from CHAN_FD until exit or EOF (the coordinator died). Never returns. */
static void worker_loop(void)
{
	struct sigaction sa = { .sa_handler = on_segv };
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	/* Children this process forks are reaped automatically. */
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		struct cmd c;
		ssize_t n = recv(CHAN_FD, &c, sizeof(c), 0);
		if (n == 0)
			_exit(0);
		if (n != (ssize_t)sizeof(c))
			_exit(121);
		struct reply r = { 0 };
		int pass_fd = -1;
		errno = 0;
		switch (c.op) {
		case OP_MMAP: {
			uint64_t at = reserve_aligned(c.len, c.align);
			if (at == 0) {
				fail(&r, "mmap(reserve)");
				break;
			}
			void *p = mmap((void *)at, c.len, (int)(c.flag & 0xff), MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			if (p == MAP_FAILED) {
				fail(&r, "mmap");
				break;
			}
			int advice = c.flag >> 8;
			if (advice && madvise(p, c.len, advice) != 0) {
				fail(&r, "madvise");
				break;
			}
			r.addr = at;
			break;
		}
		case OP_TOUCH:
			if (touch_range(c.addr, c.len, c.flag) != 0)
				fail(&r, c.flag ? "write" : "read");
			break;
		case OP_FORK: {
			int sv[2];
			if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
				fail(&r, "socketpair");
				break;
			}
			pid_t pid = fork();
			if (pid < 0) {
				fail(&r, "fork");
				close(sv[0]);
				close(sv[1]);
				break;
			}
			if (pid == 0) {
				if (dup2(sv[1], CHAN_FD) != CHAN_FD)
					_exit(122);
				close_range(CHAN_FD + 1, ~0U, 0);
				continue;
			}
			close(sv[1]);
			r.pid = pid;
			pass_fd = sv[0];
			break;
		}
		case OP_EXIT:
			reply_send(CHAN_FD, &r, -1);
			_exit(0);
		case OP_MUNMAP:
			if (munmap((void *)c.addr, c.len) != 0)
				fail(&r, "munmap");
			break;
		case OP_MREMAP: {
			uint64_t to = reserve_aligned(c.newlen, c.align);
			if (to == 0) {
				fail(&r, "mmap(reserve)");
				break;
			}
			void *p = mremap((void *)c.addr, c.len, c.newlen, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)to);
			if (p == MAP_FAILED) {
				fail(&r, "mremap");
				break;
			}
			r.addr = to;
			break;
		}
		case OP_MPROTECT:
			if (mprotect((void *)c.addr, c.len, c.flag) != 0)
				fail(&r, "mprotect");
			break;
		case OP_MADVISE:
			if (madvise((void *)c.addr, c.len, c.flag) != 0)
				fail(&r, "madvise");
			break;
		default:
			errno = EINVAL;
			fail(&r, "command");
		}
		reply_send(CHAN_FD, &r, pass_fd);
		if (pass_fd >= 0)
			close(pass_fd);
	}
}

/* ---------------------------------------------------------------- coordinator side */

struct proc {
	int used, alive, direct;
	int fd;
	pid_t pid;
	uint64_t raddr[MAXR], rsize[MAXR];
	unsigned char rvalid[MAXR];
};

static struct proc *procs[MAXP];
static long lineno;
static char curline[512];
static int kpagecount_fd = -1, kpageflags_fd = -1;

static void kill_all(void)
{
	for (int i = 0; i < MAXP; i++)
		if (procs[i] && procs[i]->alive)
			kill(procs[i]->pid, SIGKILL);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "kprobe: line %ld (%s): ", lineno, curline);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	kill_all();
	exit(1);
}

static struct proc *proc_get(long p, int must_live)
{
	if (p < 0 || p >= MAXP || !procs[p])
		die("process %ld does not exist", p);
	if (must_live && !procs[p]->alive)
		die("process %ld has exited", p);
	return procs[p];
}

static uint64_t region_addr(struct proc *pr, long r, uint64_t off, uint64_t len)
{
	if (r < 0 || r >= MAXR || !pr->rvalid[r])
		die("region %ld does not exist in that process", r);
	if (off + len > pr->rsize[r])
		die("range [%" PRIu64 ", +%" PRIu64 ") is outside region %ld (%" PRIu64 " bytes)", off, len, r, pr->rsize[r]);
	return pr->raddr[r] + off;
}

/* Sends one command and waits for its reply; a received fd (fork) is stored in *fd_out. */
static struct reply call(struct proc *pr, struct cmd *c, int *fd_out)
{
	if (send(pr->fd, c, sizeof(*c), 0) != (ssize_t)sizeof(*c))
		die("send to pid %d: %s", pr->pid, strerror(errno));
	struct reply r;
	struct iovec iov = { .iov_base = &r, .iov_len = sizeof(r) };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	ssize_t n = recvmsg(pr->fd, &mh, MSG_CMSG_CLOEXEC);
	if (n != (ssize_t)sizeof(r))
		die("pid %d died without replying", pr->pid);
	if (fd_out) {
		*fd_out = -1;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
				memcpy(fd_out, CMSG_DATA(cm), sizeof(int));
	}
	if (r.err)
		die("%s failed in pid %d: %s", r.what, pr->pid, strerror(r.err));
	return r;
}

static struct proc *proc_new(long p)
{
	if (p < 0 || p >= MAXP)
		die("process id %ld out of range", p);
	if (procs[p])
		die("process %ld already exists", p);
	procs[p] = calloc(1, sizeof(struct proc));
	if (!procs[p])
		die("out of memory");
	procs[p]->used = 1;
	return procs[p];
}

static void cmd_spawn(long p)
{
	struct proc *pr = proc_new(p);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		die("socketpair: %s", strerror(errno));
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Only the coordinator writes stdout: a worker must not hold the driver's pipe open. */
		int null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(null, 0) != 0 || dup2(null, 1) != 1)
			_exit(123);
		if (dup2(sv[1], CHAN_FD) != CHAN_FD)
			_exit(122);
		close_range(CHAN_FD + 1, ~0U, 0);
		worker_loop();
	}
	close(sv[1]);
	pr->fd = sv[0];
	pr->pid = pid;
	pr->alive = 1;
	pr->direct = 1;
}

static void cmd_exit(struct proc *pr)
{
	struct cmd c = { .op = OP_EXIT };
	call(pr, &c, NULL);
	char b;
	/* EOF on the channel: the process is past exit_mm(). */
	while (recv(pr->fd, &b, 1, 0) > 0)
		;
	close(pr->fd);
	if (pr->direct)
		waitpid(pr->pid, NULL, 0);
	pr->alive = 0;
}

static int pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static uint64_t kpage_read(int fd, uint64_t pfn, const char *name)
{
	uint64_t v;
	if (pread_full(fd, &v, 8, (off_t)(pfn * 8)) != 0)
		die("read %s at pfn %" PRIu64 ": %s", name, pfn, strerror(errno));
	return v;
}

/*
 * Folio geometry from kpageflags: a folio of order n starts at a PFN aligned to 2^n, so for orders up to
 * PMD order its head and tails lie in the 512-aligned PFN block around `pfn`.
 */
static void folio_of(uint64_t pfn, uint64_t flags, uint64_t *head, uint64_t *nr)
{
	*head = pfn;
	*nr = 1;
	if (!(flags & ((1ULL << KPF_COMPOUND_HEAD) | (1ULL << KPF_COMPOUND_TAIL))))
		return;
	uint64_t base = pfn & ~511ULL, fl[512];
	if (pread_full(kpageflags_fd, fl, sizeof(fl), (off_t)(base * 8)) != 0)
		die("read /proc/kpageflags at pfn %" PRIu64 ": %s", base, strerror(errno));
	uint64_t i = pfn - base;
	while (i > 0 && (fl[i] & (1ULL << KPF_COMPOUND_TAIL)))
		i--;
	if (!(fl[i] & (1ULL << KPF_COMPOUND_HEAD))) {
		*nr = 0; /* head outside the block: a folio larger than PMD order */
		*head = base + i;
		return;
	}
	uint64_t j = i + 1;
	while (j < 512 && (fl[j] & (1ULL << KPF_COMPOUND_TAIL)))
		j++;
	*head = base + i;
	*nr = j - i;
}

static void cmd_observe(long id, long r, uint64_t off, uint64_t len, int np, const long *ps)
{
	uint64_t first = off & ~(PAGE - 1);
	uint64_t npages = (off + len - first + PAGE - 1) / PAGE;
	uint64_t *pm = malloc(npages * 8);
	if (!pm)
		die("out of memory");
	printf("{\"observe\":%ld,\"procs\":[", id);
	for (int k = 0; k < np; k++) {
		struct proc *pr = proc_get(ps[k], 0);
		printf("%s{\"proc\":%ld,\"pid\":%d,\"pages\":", k ? "," : "", ps[k], pr->pid);
		if (!pr->alive || r < 0 || r >= MAXR || !pr->rvalid[r] || first + npages * PAGE > pr->rsize[r]) {
			printf("null}");
			continue;
		}
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/pagemap", pr->pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die("open %s: %s", path, strerror(errno));
		uint64_t va = pr->raddr[r] + first;
		if (pread_full(fd, pm, npages * 8, (off_t)(va / PAGE * 8)) != 0)
			die("read %s: %s", path, strerror(errno));
		close(fd);
		printf("[");
		for (uint64_t i = 0; i < npages; i++) {
			uint64_t e = pm[i];
			if (i)
				printf(",");
			if (!(e & PM_PRESENT)) {
				printf("{\"p\":0,\"swap\":%d}", (e & PM_SWAP) ? 1 : 0);
				continue;
			}
			uint64_t pfn = e & PM_PFN_MASK;
			if (pfn == 0)
				die("pagemap of pid %d shows PFN 0 for a present page: not running with CAP_SYS_ADMIN?", pr->pid);
			uint64_t count = kpage_read(kpagecount_fd, pfn, "/proc/kpagecount");
			uint64_t flags = kpage_read(kpageflags_fd, pfn, "/proc/kpageflags");
			uint64_t head, nr;
			folio_of(pfn, flags, &head, &nr);
			printf("{\"p\":1,\"pfn\":%" PRIu64 ",\"count\":%" PRIu64 ",\"flags\":\"0x%" PRIx64 "\",\"excl\":%d,\"head\":%" PRIu64
			       ",\"nr\":%" PRIu64 "}",
			       pfn, count, flags, (e & PM_MMAP_EXCLUSIVE) ? 1 : 0, head, nr);
		}
		printf("]}");
	}
	printf("]}\n");
	fflush(stdout);
	free(pm);
}

int main(void)
{
	kpagecount_fd = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
	kpageflags_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (kpagecount_fd < 0 || kpageflags_fd < 0) {
		fprintf(stderr, "kprobe: cannot open /proc/kpagecount or /proc/kpageflags: %s\n", strerror(errno));
		return 2;
	}
	/* A dead workload process shows up as EOF on recv, not as a signal that kills the coordinator. */
	signal(SIGPIPE, SIG_IGN);
	char op[32];
	while (fgets(curline, sizeof(curline), stdin)) {
		lineno++;
		curline[strcspn(curline, "\n")] = 0;
		long a[8] = { 0 };
		uint64_t u[8] = { 0 };
		if (curline[0] == 0)
			continue;
		if (sscanf(curline, "%31s", op) != 1)
			die("no command");
		if (!strcmp(op, "spawn")) {
			if (sscanf(curline, "%*s %ld", &a[0]) != 1)
				die("bad arguments");
			cmd_spawn(a[0]);
		} else if (!strcmp(op, "mmap")) {
			long prot, advice;
			if (sscanf(curline, "%*s %ld %ld %" SCNu64 " %" SCNu64 " %ld %ld", &a[0], &a[1], &u[0], &u[1], &prot, &advice) != 6)
				die("bad arguments");
			struct proc *pr = proc_get(a[0], 1);
			if (a[1] < 0 || a[1] >= MAXR || pr->rvalid[a[1]])
				die("region %ld already exists", a[1]);
			struct cmd c = { .op = OP_MMAP, .flag = (int32_t)(prot | (advice << 8)), .len = u[0], .align = u[1] };
			struct reply rp = call(pr, &c, NULL);
			pr->raddr[a[1]] = rp.addr;
			pr->rsize[a[1]] = u[0];
			pr->rvalid[a[1]] = 1;
		} else if (!strcmp(op, "touch")) {
			long w;
			if (sscanf(curline, "%*s %ld %ld %" SCNu64 " %" SCNu64 " %ld", &a[0], &a[1], &u[0], &u[1], &w) != 5)
				die("bad arguments");
			struct proc *pr = proc_get(a[0], 1);
			struct cmd c = { .op = OP_TOUCH, .flag = (int32_t)w, .addr = region_addr(pr, a[1], u[0], u[1]), .len = u[1] };
			call(pr, &c, NULL);
		} else if (!strcmp(op, "fork")) {
			if (sscanf(curline, "%*s %ld %ld", &a[0], &a[1]) != 2)
				die("bad arguments");
			struct proc *pr = proc_get(a[0], 1);
			struct proc *ch = proc_new(a[1]);
			struct cmd c = { .op = OP_FORK };
			int fd;
			struct reply rp = call(pr, &c, &fd);
			if (fd < 0)
				die("fork reply carried no channel");
			ch->fd = fd;
			ch->pid = rp.pid;
			ch->alive = 1;
			memcpy(ch->raddr, pr->raddr, sizeof(pr->raddr));
			memcpy(ch->rsize, pr->rsize, sizeof(pr->rsize));
			memcpy(ch->rvalid, pr->rvalid, sizeof(pr->rvalid));
		} else if (!strcmp(op, "exit")) {
			if (sscanf(curline, "%*s %ld", &a[0]) != 1)
				die("bad arguments");
			cmd_exit(proc_get(a[0], 1));
		} else if (!strcmp(op, "munmap") || !strcmp(op, "mprotect") || !strcmp(op, "madvise")) {
			long flag = 0;
			int want = strcmp(op, "munmap") ? 5 : 4;
			if (sscanf(curline, "%*s %ld %ld %" SCNu64 " %" SCNu64 " %ld", &a[0], &a[1], &u[0], &u[1], &flag) != want)
				die("bad arguments");
			struct proc *pr = proc_get(a[0], 1);
			struct cmd c = { .op = !strcmp(op, "munmap") ? OP_MUNMAP : !strcmp(op, "mprotect") ? OP_MPROTECT : OP_MADVISE,
					 .flag = (int32_t)flag, .addr = region_addr(pr, a[1], u[0], u[1]), .len = u[1] };
			call(pr, &c, NULL);
		} else if (!strcmp(op, "mremap")) {
			if (sscanf(curline, "%*s %ld %ld %" SCNu64 " %" SCNu64 " %ld %" SCNu64 " %" SCNu64, &a[0], &a[1], &u[0], &u[1], &a[2], &u[2],
				   &u[3]) != 7)
				die("bad arguments");
			struct proc *pr = proc_get(a[0], 1);
			if (a[2] < 0 || a[2] >= MAXR || pr->rvalid[a[2]])
				die("region %ld already exists", a[2]);
			struct cmd c = { .op = OP_MREMAP, .addr = region_addr(pr, a[1], u[0], u[1]), .len = u[1], .newlen = u[2], .align = u[3] };
			struct reply rp = call(pr, &c, NULL);
			pr->raddr[a[2]] = rp.addr;
			pr->rsize[a[2]] = u[2];
			pr->rvalid[a[2]] = 1;
		} else if (!strcmp(op, "observe")) {
			long ps[MAXP];
			int n, pos;
			if (sscanf(curline, "%*s %ld %ld %" SCNu64 " %" SCNu64 " %d%n", &a[0], &a[1], &u[0], &u[1], &n, &pos) != 5 || n < 1 || n > MAXP)
				die("bad arguments");
			const char *s = curline + pos;
			for (int k = 0; k < n; k++) {
				int used;
				if (sscanf(s, "%ld%n", &ps[k], &used) != 1)
					die("bad process list");
				s += used;
			}
			cmd_observe(a[0], a[1], u[0], u[1], n, ps);
		} else {
			die("unknown command %s", op);
		}
	}
	for (int i = 0; i < MAXP; i++)
		if (procs[i] && procs[i]->alive)
			cmd_exit(procs[i]);
	printf("done\n");
	return 0;
}
