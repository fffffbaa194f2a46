// 5. express-openid-connect v3, the peer a user would otherwise pick: its `/logout` route with a
// logged-in session (its encrypted `appSession` cookie, prepared per user), ending the IdP session
// at the stand-in OP's end_session_endpoint (`idpLogout: true`), like the sso-logout scenario.
import express from 'express'
import eoc from 'express-openid-connect'
import { CLIENT_ID, EOC_SECRET, RETURN_TO } from '../config.mjs'

export function eocLogout(ctx) {
  const app = express()
  app.use(
    eoc.auth({
      secret: EOC_SECRET,
      baseURL: 'http://127.0.0.1',
      clientID: CLIENT_ID,
      issuerBaseURL: ctx.op.origin,
      authRequired: false,
      idpLogout: true,
      routes: { postLogoutRedirect: RETURN_TO },
    }),
  )
  return app
}
