import type { Express } from 'express'
import type { auth } from 'express-openid-connect'
import type { LogoutMiddleware } from '../../../lib/index.js'
import type { RecipeEnv } from '../../support/recipes.js'

export declare const createApp: (
  env: RecipeEnv,
  extra?: Partial<NonNullable<Parameters<typeof auth>[0]>>,
) => { app: Express; auth: LogoutMiddleware }
