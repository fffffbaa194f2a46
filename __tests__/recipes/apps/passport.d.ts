import type { PassportStatic } from 'passport'
import type { RecipeEnv } from '../../support/recipes.js'
import type { Express } from 'express'
import type { LogoutMiddleware } from '../../../lib/index.js'
export declare const createApp: (env: RecipeEnv) => {
  app: Express
  auth: LogoutMiddleware
  passport: PassportStatic
}
