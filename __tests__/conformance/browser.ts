import request from 'supertest'

/**
 * The tester's browser, as far as these flows need one: it keeps the RP's cookies, follows
 * redirects one hop at a time, and sends the Fetch Metadata headers a browser would. The RP is
 * reached through supertest; the stand-in OP with fetch (it keeps no browser cookies).
 *
 * OP and RP both listen on 127.0.0.1 here, where a real browser would treat them as one site.
 * The flows are modelled as the suite's are deployed: the OP on another site. So requests the OP's
 * pages cause at the RP are `Sec-Fetch-Site: cross-site`, and the RP's front-channel iframe gets
 * no session cookie (a `SameSite=Lax` cookie is not sent to a cross-site iframe).
 */

export interface Page {
  url: string
  status: number
  location?: string
  headers: Record<string, string | string[] | undefined>
  text: string
}

export interface Navigation {
  method?: 'GET' | 'POST'
  form?: Record<string, string>
  /** Where the navigation comes from, for Sec-Fetch-Site. Defaults to the page's own site. */
  from?: 'same-origin' | 'cross-site' | 'none'
}

export class Browser {
  /** The RP's cookies, name -> value. */
  readonly cookies = new Map<string, string>()

  constructor(readonly rpOrigin: string) {}

  /** One top-level navigation. */
  async navigate(url: string, init: Navigation = {}): Promise<Page> {
    const target = new URL(url)
    if (target.origin !== this.rpOrigin) return opRequest(target, init)
    const method = init.method ?? 'GET'
    const path = `${target.pathname}${target.search}`
    let req = method === 'POST' ? request(this.rpOrigin).post(path) : request(this.rpOrigin).get(path)
    req = req
      .set('Sec-Fetch-Site', init.from ?? 'same-origin')
      .set('Sec-Fetch-Mode', 'navigate')
      .set('Sec-Fetch-Dest', 'document')
    if (this.cookies.size > 0) req = req.set('Cookie', this.cookieHeader())
    if (method === 'POST') {
      // Every current browser sends Origin on a form POST.
      req = req
        .set('Origin', this.rpOrigin)
        .type('form')
        .send(init.form ?? {})
    }
    const res = await req
    this.store(res.headers['set-cookie'])
    return page(url, res.status, res.headers, res.text)
  }

  /**
   * Follows redirects from `url` until a page that is not a redirect (at most 10 hops), and returns
   * every page on the way. Hops that leave the RP for the OP, or come back, are cross-site.
   */
  async follow(url: string, init: Navigation = {}): Promise<Page[]> {
    const pages: Page[] = []
    let next: { url: string; init: Navigation } | undefined = { url, init }
    let previous: URL | undefined
    for (let hop = 0; next && hop < 10; hop++) {
      const current: URL = new URL(next.url)
      const from =
        previous === undefined
          ? next.init.from
          : previous.origin === current.origin
            ? 'same-origin'
            : 'cross-site'
      const result = await this.navigate(next.url, { ...next.init, from })
      pages.push(result)
      previous = current
      next = result.location ? { url: new URL(result.location, current).href, init: {} } : undefined
    }
    if (next) throw new Error(`more than 10 redirects from ${url}`)
    return pages
  }

  /**
   * Loads `url` in an iframe of the OP's page: a cross-site subresource navigation, so the RP's
   * `SameSite=Lax` session cookie is not sent (RFC 6265bis §5.2, "same-site" requests), and the
   * request says so in its Fetch Metadata.
   */
  async loadCrossSiteIframe(url: string, embedder: string): Promise<Page> {
    const target = new URL(url)
    if (target.origin !== this.rpOrigin) throw new Error(`iframe ${url} is not on the RP`)
    const res = await request(this.rpOrigin)
      .get(`${target.pathname}${target.search}`)
      .set('Sec-Fetch-Site', 'cross-site')
      .set('Sec-Fetch-Mode', 'navigate')
      .set('Sec-Fetch-Dest', 'iframe')
      .set('Referer', new URL(embedder).origin + '/')
    // A response's cookies in a cross-site iframe would be third-party cookies; none are kept.
    return page(url, res.status, res.headers, res.text)
  }

  /** `Cookie` header with the RP's cookies, for requests a test makes as this browser. */
  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  private store(setCookie: unknown): void {
    const lines = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [String(setCookie)]
    for (const line of lines as string[]) {
      const [pair = '', ...attributes] = line.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      const expired = attributes.some((a) => {
        const [key = '', val = ''] = a.split('=').map((p) => p.trim().toLowerCase())
        return (key === 'max-age' && Number(val) <= 0) || (key === 'expires' && Date.parse(val) <= Date.now())
      })
      if (expired || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }
}

async function opRequest(target: URL, init: Navigation): Promise<Page> {
  const method = init.method ?? 'GET'
  const response = await fetch(target, {
    method,
    redirect: 'manual',
    headers: { 'sec-fetch-site': init.from ?? 'none', 'sec-fetch-dest': 'document' },
    ...(method === 'POST' ? { body: new URLSearchParams(init.form ?? {}) } : {}),
  })
  const headers: Record<string, string> = {}
  response.headers.forEach((value, key) => (headers[key] = value))
  return page(target.href, response.status, headers, await response.text())
}

function page(url: string, status: number, headers: Page['headers'], text: string): Page {
  const location = headers.location
  return {
    url,
    status,
    location: typeof location === 'string' ? location : undefined,
    headers,
    text,
  }
}

/** The values of the OP's front-channel page (the suite renders them into its page's script). */
export interface FrontchannelPage {
  rp_frontchannel_logout_uri: string
  iframe_loaded_callback_url: string
  /** `'OPINIT'` on the OP-initiated page, which does not redirect afterwards. */
  post_logout_redirect_uri_redirect: string
}

export function frontchannelPageOf(page: Page): FrontchannelPage | undefined {
  const json = /<script type="application\/json" id="frontchannel">([^<]*)<\/script>/.exec(page.text)?.[1]
  return json === undefined ? undefined : (JSON.parse(json) as FrontchannelPage)
}

export interface FrontchannelRun {
  /** The RP's answer inside the iframe. */
  iframe: Page
  /** Pages after the OP's page navigated away (RP-initiated only). */
  after: Page[]
}

/**
 * Does what the OP's front-channel page does in a browser: loads the RP's frontchannel_logout_uri
 * in a cross-site iframe, tells the OP the iframe loaded (its XHR to the callback), then, for the
 * RP-initiated page, goes on to the post-logout redirect (the page's script waits five seconds
 * first; nothing here depends on that wait).
 */
export async function runFrontchannelPage(browser: Browser, opPage: Page): Promise<FrontchannelRun> {
  const data = frontchannelPageOf(opPage)
  if (!data) throw new Error(`not a front-channel page: ${opPage.status} ${opPage.text.slice(0, 200)}`)
  const iframe = await browser.loadCrossSiteIframe(data.rp_frontchannel_logout_uri, opPage.url)
  const callback = await fetch(data.iframe_loaded_callback_url, {
    headers: { 'sec-fetch-site': 'same-origin' },
  })
  if (callback.status !== 200) throw new Error(`front-channel callback answered ${callback.status}`)
  const after =
    data.post_logout_redirect_uri_redirect === 'OPINIT'
      ? []
      : await browser.follow(data.post_logout_redirect_uri_redirect, { from: 'cross-site' })
  return { iframe, after }
}
