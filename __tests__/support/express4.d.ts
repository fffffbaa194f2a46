// express@4 is installed under the alias `express4`; its API is a subset of the v5 types used here.
declare module 'express4' {
  import express from 'express'
  export = express
}
