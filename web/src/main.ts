// Entry point: Pinia, vue-i18n and the router, then the shell. Element Plus components and
// their CSS are imported per use by unplugin-vue-components (see vite.config.ts).
import 'element-plus/theme-chalk/base.css'
import 'element-plus/theme-chalk/dark/css-vars.css'
import './styles/main.css'
import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { createAppI18n } from './i18n'
import { createAppRouter } from './router'
import { usePreferencesStore } from './stores/preferences'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
// The preferences store applies the theme class and language before the first render.
const prefs = usePreferencesStore(pinia)
app.use(createAppI18n(prefs.locale))
app.use(createAppRouter())
app.mount('#app')
