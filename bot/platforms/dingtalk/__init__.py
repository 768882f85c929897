"""DingTalk: the robot callback (HTTP and Stream), its channel and its API client."""
