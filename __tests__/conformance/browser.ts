import request from 'supertest'

/**
 * The tester's browser, as far as these flows need one: it keeps the RP's cookies, follows
 * redirects one hop at a time, and sends the Fetch Metadata headers a browser would. The RP is
 * reached through supertest, OPs with fetch; each origin has its own cookies.
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
  /** Cookies per origin, name -> value. */
  private readonly jars = new Map<string, Map<string, string>>()
  private readonly rpOrigins: Set<string>

  /** `rpOrigin` is the RP under test; `otherRps` are further RPs this browser visits. */
  constructor(
    readonly rpOrigin: string,
    ...otherRps: string[]
  ) {
    this.rpOrigins = new Set([rpOrigin, ...otherRps])
  }

  /** The RP's cookies, name -> value. */
  get cookies(): Map<string, string> {
    return this.jarFor(this.rpOrigin)
  }

  /** One top-level navigation. */
  async navigate(url: string, init: Navigation = {}): Promise<Page> {
    const target = new URL(url)
    if (!this.rpOrigins.has(target.origin)) return this.opRequest(target, init)
    const jar = this.jarFor(target.origin)
    const method = init.method ?? 'GET'
    const path = `${target.pathname}${target.search}`
    let req = method === 'POST' ? request(target.origin).post(path) : request(target.origin).get(path)
    req = req
      .set('Sec-Fetch-Site', init.from ?? 'same-origin')
      .set('Sec-Fetch-Mode', 'navigate')
      .set('Sec-Fetch-Dest', 'document')
    if (jar.size > 0) req = req.set('Cookie', header(jar))
    if (method === 'POST') {
      // Every current browser sends Origin on a form POST.
      req = req
        .set('Origin', target.origin)
        .type('form')
        .send(init.form ?? {})
    }
    const res = await req
    store(jar, res.headers['set-cookie'])
    return page(url, res.status, res.headers, res.text)
  }

  /**
   * Follows redirects from `url` until a page that is not a redirect (at most 10 hops), and returns
   * every page on the way. Hops from one origin to another are cross-site.
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
    if (!this.rpOrigins.has(target.origin)) throw new Error(`iframe ${url} is not on an RP`)
    const res = await request(target.origin)
      .get(`${target.pathname}${target.search}`)
      .set('Sec-Fetch-Site', 'cross-site')
      .set('Sec-Fetch-Mode', 'navigate')
      .set('Sec-Fetch-Dest', 'iframe')
      .set('Referer', new URL(embedder).origin + '/')
    // A response's cookies in a cross-site iframe would be third-party cookies; none are kept.
    return page(url, res.status, res.headers, res.text)
  }

  /** `Cookie` header with an RP's cookies (the RP under test by default). */
  cookieHeader(origin: string = this.rpOrigin): string {
    return header(this.jarFor(origin))
  }

  private jarFor(origin: string): Map<string, string> {
    let jar = this.jars.get(origin)
    if (!jar) this.jars.set(origin, (jar = new Map()))
    return jar
  }

  private async opRequest(target: URL, init: Navigation): Promise<Page> {
    const method = init.method ?? 'GET'
    const jar = this.jarFor(target.origin)
    const headers: Record<string, string> = {
      'sec-fetch-site': init.from ?? 'none',
      'sec-fetch-dest': 'document',
    }
    if (jar.size > 0) headers.cookie = header(jar)
    const response = await fetch(target, {
      method,
      redirect: 'manual',
      headers,
      ...(method === 'POST' ? { body: new URLSearchParams(init.form ?? {}) } : {}),
    })
    store(jar, response.headers.getSetCookie())
    const received: Record<string, string> = {}
    response.headers.forEach((value, key) => (received[key] = value))
    return page(target.href, response.status, received, await response.text())
  }
}

function header(jar: Map<string, string>): string {
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
}

/** Keeps `Set-Cookie`s in `jar`, honouring deletions (an expiry in the past, or an empty value). */
function store(jar: Map<string, string>, setCookie: unknown): void {
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
    if (expired || value === '') jar.delete(name)
    else jar.set(name, value)
  }
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
  /** The suite's page: one RP. */
  rp_frontchannel_logout_uri?: string
  /** A page for every RP of the session (the oidc-provider test server's). */
  rp_frontchannel_logout_uris?: string[]
  iframe_loaded_callback_url: string
  /** `'OPINIT'` on the OP-initiated page, which does not redirect afterwards. */
  post_logout_redirect_uri_redirect: string
}

export function frontchannelPageOf(page: Page): FrontchannelPage | undefined {
  const json = /<script type="application\/json" id="frontchannel">([^<]*)<\/script>/.exec(page.text)?.[1]
  return json === undefined ? undefined : (JSON.parse(json) as FrontchannelPage)
}

export interface FrontchannelRun {
  /** The RP's answer inside the (first) iframe. */
  iframe: Page
  /** Every iframe's answer. */
  iframes: Page[]
  /** Pages after the OP's page navigated away (RP-initiated only). */
  after: Page[]
}

/**
 * Does what the OP's front-channel page does in a browser: loads the RPs' frontchannel_logout_uri
 * in cross-site iframes, tells the OP the iframe loaded (its XHR to the callback), then, for the
 * RP-initiated page, goes on to the post-logout redirect (the page's script waits five seconds
 * first; nothing here depends on that wait).
 */
export async function runFrontchannelPage(browser: Browser, opPage: Page): Promise<FrontchannelRun> {
  const data = frontchannelPageOf(opPage)
  if (!data) throw new Error(`not a front-channel page: ${opPage.status} ${opPage.text.slice(0, 200)}`)
  const urls = data.rp_frontchannel_logout_uris ?? [data.rp_frontchannel_logout_uri!]
  const iframes = await Promise.all(urls.map((url) => browser.loadCrossSiteIframe(url, opPage.url)))
  const callback = await fetch(data.iframe_loaded_callback_url, {
    headers: { 'sec-fetch-site': 'same-origin' },
  })
  if (callback.status !== 200) throw new Error(`front-channel callback answered ${callback.status}`)
  const after =
    data.post_logout_redirect_uri_redirect === 'OPINIT'
      ? []
      : await browser.follow(data.post_logout_redirect_uri_redirect, { from: 'cross-site' })
  return { iframe: iframes[0]!, iframes, after }
}
