import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { useAuthStore } from '../../stores'
import { installFakeServices } from '../../testing/services'
import { fakeJwt, type RecordedRequest } from '../../testing/fakes'
import SignInPanel from '../SignInPanel.vue'

const TOKENS = {
  AuthenticationResult: { IdToken: fakeJwt({ sub: 'u1', given_name: 'Ana', exp: 4_000_000_000 }), AccessToken: 'a', RefreshToken: 'r', ExpiresIn: 3600 },
}

function setup(answer: (op: string, req: RecordedRequest) => { status?: number; body?: unknown }) {
  const services = installFakeServices((req) => answer((req.headers['x-amz-target'] ?? '').split('.')[1] ?? '', req))
  setActivePinia(createPinia())
  const wrapper = mount(SignInPanel, { attachTo: document.body })
  return { wrapper, services, auth: useAuthStore() }
}

describe('SignInPanel', () => {
  beforeEach(() => {
    document.body.innerHTML = ''
  })

  it('creates an account, asks for the code and signs the customer in', async () => {
    const { wrapper, services, auth } = setup((op) => {
      if (op === 'SignUp') return { body: { CodeDeliveryDetails: { Destination: 'a***@e***' } } }
      if (op === 'ConfirmSignUp') return { body: { Session: 's' } }
      return { body: TOKENS }
    })
    await wrapper.find('#sign-in-email').setValue('ana@example.com')
    await wrapper.find('#sign-in-name').setValue('Ana')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(wrapper.text()).toContain('a***@e***')
    expect(document.activeElement?.id).toBe('sign-in-code')

    await wrapper.find('#sign-in-code').setValue('123456')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(auth.user?.givenName).toBe('Ana')
    expect(services.fetch.requests.map((r) => r.headers['x-amz-target'])).toEqual([
      'AWSCognitoIdentityProviderService.SignUp',
      'AWSCognitoIdentityProviderService.ConfirmSignUp',
      'AWSCognitoIdentityProviderService.InitiateAuth',
    ])
  })

  it('switches an existing customer to the sign-in code without asking twice', async () => {
    const { wrapper, services } = setup((op) => {
      if (op === 'SignUp') return { status: 400, body: { __type: 'UsernameExistsException', message: 'exists' } }
      return { body: { ChallengeName: 'EMAIL_OTP', Session: 's1', ChallengeParameters: { CODE_DELIVERY_DESTINATION: 'a***' } } }
    })
    await wrapper.find('#sign-in-email').setValue('ana@example.com')
    await wrapper.find('#sign-in-name').setValue('Ana')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(wrapper.find('#sign-in-code').exists()).toBe(true)
    expect(wrapper.text()).toContain('You already have an account')
    expect(services.fetch.requests.at(-1)?.body).toMatchObject({ AuthFlow: 'USER_AUTH', AuthParameters: { PREFERRED_CHALLENGE: 'EMAIL_OTP' } })
  })

  it('shows a wrong code as an alert and keeps the code form', async () => {
    const { wrapper } = setup((op) => {
      if (op === 'InitiateAuth') return { body: { ChallengeName: 'EMAIL_OTP', Session: 's1' } }
      return { status: 400, body: { __type: 'CodeMismatchException', message: 'Invalid code' } }
    })
    await wrapper.find('button.link').trigger('click')
    await wrapper.find('#sign-in-email').setValue('ana@example.com')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    await wrapper.find('#sign-in-code').setValue('000000')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(wrapper.find('[role="alert"]').text()).toContain('That code is not right')
    expect(wrapper.find('#sign-in-code').exists()).toBe(true)
  })
})
