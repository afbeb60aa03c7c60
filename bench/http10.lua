-- SPDX-License-Identifier: GPL-2.0
-- wrk script of the end-to-end benchmark: short HTTP/1.0 requests that
-- close their connection, so every request is a new TCP connection.
request = function()
	return "GET / HTTP/1.0\r\nHost: bench\r\nConnection: close\r\n\r\n"
end
