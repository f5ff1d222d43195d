/**
 * Imported first by the tests that compare whole training runs bit for bit: LibTorch's CPU work
 * (Debian's 1.13, OpenMP) is not bitwise reproducible with several threads on a loaded machine.
 * With three copies of the trainer's resume test at once on 2 cores, 4 of 6 runs differed from
 * their uninterrupted twin in the last float bits (from the second warm-start step on), 0 of 6 with
 * OMP_NUM_THREADS=1, and 5 of 6 with only OpenBLAS single-threaded. One LibTorch thread makes the
 * equality a test of the resume logic itself. It must be set before the runner (and with it
 * libgomp, which reads the variable once) is loaded; child processes inherit it.
 */
process.env.OMP_NUM_THREADS = '1';
