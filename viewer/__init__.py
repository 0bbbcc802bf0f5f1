"""The hubscope viewer: traffic, devices and spec findings in the browser."""
