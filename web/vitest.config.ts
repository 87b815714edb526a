import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// Unit tests of components and client logic in a simulated DOM (happy-dom); the browser journeys
// are in e2e/.
export default defineConfig({
  plugins: [vue()],
  test: {
    environment: 'happy-dom',
    include: ['unit/**/*.test.ts'],
  },
})
