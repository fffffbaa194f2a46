export declare const createApp: import('./recipe-app').CreateApp
