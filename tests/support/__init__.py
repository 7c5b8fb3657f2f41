"""What the tests share, none of it a test: the isolated environment and in-thread server
(`helpers`), AMC as a child process (`amcproc`), the agents' sandboxes and the e2e base
(`agentenv`, `e2ecase`), the scripted fake model (`fakemodel`, `fakemodel_rules`), the browser
(`browser`), SSE (`sse`), sshd and several machines (`sshd`, `remote_world`), Hypothesis
(`fuzzing`), the pinned tools (`tools`), and one set of hook payload and transcript builders
(`builders`)."""
