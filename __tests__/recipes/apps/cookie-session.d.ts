import type { CreateApp } from './recipe-app.js'

export declare const createApp: CreateApp
