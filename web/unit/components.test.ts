// Components with Element Plus and vue-i18n as the app registers them: LoadState's four states and
// useFormErrors putting a server error beside the field it names.
import { beforeEach, describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus, { ElForm, ElFormItem, ElInput } from 'element-plus'
import { ApiError } from '../src/api/client'
import LoadState from '../src/components/LoadState.vue'
import { useFormErrors } from '../src/composables/useFormErrors'
import { i18n, setLocale } from '../src/i18n'

const plugins = [ElementPlus, i18n]

describe('LoadState', () => {
  beforeEach(() => setLocale('zh-CN'))
  const slot = { default: () => h('p', { class: 'content' }, 'the figures') }

  it('shows a busy skeleton while loading, not the content', () => {
    const w = mount(LoadState, { props: { loading: true, error: new Error('x'), empty: true }, slots: slot, global: { plugins } })
    const busy = w.find('[aria-busy="true"]')
    expect(busy.exists()).toBe(true)
    expect(busy.attributes('aria-label')).toBe('加载中')
    expect(w.find('.el-skeleton').exists()).toBe(true)
    expect(w.find('.content').exists()).toBe(false)
    expect(w.find('[role="alert"]').exists()).toBe(false)
  })

  it('shows an API error in words with the server message, as an alert', () => {
    const error = new ApiError(403, 'forbidden', 'region', 'you do not administer region 440100')
    const w = mount(LoadState, { props: { loading: false, error }, slots: slot, global: { plugins } })
    const alert = w.find('[role="alert"]')
    expect(alert.exists()).toBe(true)
    expect(alert.text()).toContain('you do not administer region 440100')
    expect(alert.text()).toContain(i18n.global.t('errors.forbidden'))
    expect(w.find('.content').exists()).toBe(false)
  })

  it('shows the empty text, then the content once there is some', async () => {
    const w = mount(LoadState, { props: { loading: false, empty: true, emptyText: '还没有兑换记录' }, slots: slot, global: { plugins } })
    expect(w.find('.el-empty').text()).toContain('还没有兑换记录')
    expect(w.find('.content').exists()).toBe(false)
    await w.setProps({ empty: false })
    expect(w.find('.el-empty').exists()).toBe(false)
    expect(w.find('.content').text()).toBe('the figures')
  })

  it('falls back to the common empty text in the chosen language', () => {
    setLocale('en')
    const w = mount(LoadState, { props: { loading: false, empty: true }, slots: slot, global: { plugins } })
    expect(w.find('.el-empty').text()).toContain(i18n.global.t('common.empty'))
    expect(document.documentElement.lang).toBe('en')
  })
})

// A form like the app's: two fields, each el-form-item given the error that names it.
const Form = defineComponent({
  setup(_, { expose }) {
    const errors = useFormErrors()
    expose({ errors })
    return () =>
      h('div', [
        errors.general.value ? h('div', { class: 'general' }, errors.general.value) : null,
        h(ElForm, { labelPosition: 'top' }, () => [
          h(ElFormItem, { label: 'Nickname', error: errors.fields.nickname, class: 'f-nickname' }, () => h(ElInput, { modelValue: '', name: 'nickname' })),
          h(ElFormItem, { label: 'Community', error: errors.fields.community_id, class: 'f-community' }, () => h(ElInput, { modelValue: '', name: 'community_id' })),
        ]),
      ])
  },
})

type Exposed = { errors: ReturnType<typeof useFormErrors> }
// Element Plus shows (and hides) a form item's message after a 100 ms debounce.
const settled = async () => {
  await flushPromises()
  await new Promise((r) => setTimeout(r, 150))
}

describe('useFormErrors', () => {
  it('puts an error naming a field on the form beside that field only', async () => {
    const w = mount(Form, { global: { plugins, stubs: { transition: false, 'transition-group': false } } })
    const { errors } = w.vm as unknown as Exposed
    errors.show(new ApiError(409, 'conflict', 'nickname', 'the nickname is taken'), ['nickname', 'community_id'])
    await settled()
    expect(w.find('.f-nickname .el-form-item__error').text()).toBe('the nickname is taken')
    expect(w.find('.f-nickname').classes()).toContain('is-error')
    expect(w.find('.f-community .el-form-item__error').exists()).toBe(false)
    expect(w.find('.general').exists()).toBe(false)
  })

  it('puts an error naming no field of the form above it, and clears', async () => {
    const w = mount(Form, { global: { plugins, stubs: { transition: false, 'transition-group': false } } })
    const { errors } = w.vm as unknown as Exposed
    errors.show(new ApiError(403, 'forbidden', 'user_id', 'residents appear on leaderboards'), ['nickname', 'community_id'])
    await settled()
    expect(w.find('.general').text()).toBe('residents appear on leaderboards')
    expect(w.find('.el-form-item__error').exists()).toBe(false)

    errors.show(new ApiError(422, 'invalid', 'community_id', 'no such community'), ['nickname', 'community_id'])
    await settled()
    expect(w.find('.general').exists()).toBe(false)
    expect(w.find('.f-community .el-form-item__error').text()).toBe('no such community')

    errors.clear()
    await settled()
    expect(w.find('.el-form-item__error').exists()).toBe(false)
  })

  it('keeps nested field names as the server spells them, and shows other errors generally', () => {
    const errors = useFormErrors()
    errors.show(new ApiError(422, 'invalid', 'inputs.distance_km', 'too far'), ['inputs.distance_km'])
    expect(errors.fields['inputs.distance_km']).toBe('too far')
    errors.show(new TypeError('boom'), ['inputs.distance_km'])
    expect(errors.fields['inputs.distance_km']).toBeUndefined()
    expect(errors.general.value).toBe('boom')
    errors.show('plain text', [])
    expect(errors.general.value).toBe('plain text')
  })
})
