-- a UTF-8 byte-order mark is a syntax error, named
-- expect: exit 2
-- expect-error: file_bom.lua:4: unexpected symbol near '<\239>'
﻿expect(1):equals(1)
