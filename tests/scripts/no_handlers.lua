-- A filesystem table whose functions are all misnamed: nothing would be served.
return { gettattr = function() end, data = { 1, 2 } }
