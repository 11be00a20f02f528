import { adapterSuite } from "./support/suite.js"

adapterSuite(5)
