return require('flu').passthrough(...)
