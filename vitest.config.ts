import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Kernel tests allocate long rows (100k entries); give slow CI machines room.
    testTimeout: 60_000,
  },
});
