-- Every request a distinct query string the list ignores: each one misses the kept answers (the cold path).
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. "&miss=" .. counter .. "-" .. math.random(1000000000))
end
