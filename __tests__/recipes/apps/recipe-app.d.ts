import type { Express } from 'express'
import type { LogoutMiddleware } from '../../../lib/index.js'
import type { RecipeEnv } from '../../support/recipes.js'

/** What every recipe app module exports (the apps are JavaScript, as the recipes are). */
export type CreateApp = (env: RecipeEnv) => { app: Express; auth: LogoutMiddleware }
