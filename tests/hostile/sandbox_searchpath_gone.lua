-- package.searchpath (a file prober) is gone
-- expect: exit 0
expect(package.searchpath):equals(nil)
