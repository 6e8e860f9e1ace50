/*
 * A process with a known page map, for the live test of readProcessMap()/processFolioCensus():
 * a PMD-mapped 2 MiB anonymous THP (A) and 16 small anonymous pages (B), then fork(); the child
 * zaps the upper half of A (MADV_DONTNEED splits the child's PMD and leaves 256 PTEs) and makes A
 * MADV_NOHUGEPAGE so that khugepaged leaves it so. Prints
 * "PARENT CHILD A B THP" (THP: 1 if A's PMD was populated by a THP) and waits for stdin to close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define MiB (1UL << 20)

int main(void)
{
	char *res = mmap(NULL, 6 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED) { perror("mmap"); return 1; }
	char *a = (char *)(((uintptr_t)res + 2 * MiB - 1) & ~(2 * MiB - 1));
	if (mmap(a, 2 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) { perror("mmap A"); return 1; }
	madvise(a, 2 * MiB, MADV_HUGEPAGE);
	memset(a, 1, 2 * MiB);
	char *b = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED) { perror("mmap B"); return 1; }
	madvise(b, 16 * 4096, MADV_NOHUGEPAGE);
	memset(b, 2, 16 * 4096);
	int thp = 0;
	FILE *sm = fopen("/proc/self/smaps", "r");
	char line[256];
	unsigned long start = 0, s, e, kb;
	while (sm && fgets(line, sizeof line, sm)) {
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) { start = s; continue; }
		if (start == (unsigned long)a && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1) thp = kb == 2048;
	}
	if (sm) fclose(sm);
	int go[2];
	if (pipe(go)) { perror("pipe"); return 1; }
	pid_t child = fork();
	if (child < 0) { perror("fork"); return 1; }
	if (child == 0) {
		madvise(a + MiB, MiB, MADV_DONTNEED);
		/* Or khugepaged collapses the 256 PTEs left (max_ptes_none) into a new THP of the child's own. */
		madvise(a, 2 * MiB, MADV_NOHUGEPAGE);
		write(go[1], "x", 1);
		char c;
		while (read(0, &c, 1) > 0) ;
		return 0;
	}
	char c;
	if (read(go[0], &c, 1) != 1) return 1;
	printf("%d %d %lx %lx %d\n", getpid(), child, (unsigned long)a, (unsigned long)b, thp);
	fflush(stdout);
	while (read(0, &c, 1) > 0) ;
	waitpid(child, NULL, 0);
	return 0;
}
