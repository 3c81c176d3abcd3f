Feature: Two-phase payments: held at the bank, then captured or cancelled by the operator
  As a shop owner whose store only holds card payments until the goods are ready
  I want the bank to hold the money until my operator captures it (all or part) or cancels the hold
  So that Ecwid never shows PAID for money that is only held, and the bank takes exactly what the operator captured

  @RC-29 @simulator @desktop
  Scenario Outline: A held payment is captured <how> by the operator: the bank deposits it, Ecwid PAID
    Given a customer shopping on a desktop browser in the store that holds payments
    When the customer orders 2 "Gata" and goes to pay
    And pays on the bank page with card "4242424242424242"
    Then after a short wait the customer lands on the store's thank-you page showing "AWAITING_PAYMENT"
    And the bank holds the whole amount: orderStatus 1, approved and nothing deposited
    And the gateway's attempt is "authorized"
    And Ecwid's order is "AWAITING_PAYMENT"
    And Ecwid was never told PAID, not even in a refused update
    When an operator signs in to the console
    And the operator finds the payment by its Ecwid order id
    And the operator captures <amount> and confirms
    Then the console says "Done. Attempt: paid, Ecwid: PAID."
    And the bank has deposited <amount>: orderStatus 2
    And the bank was sent deposit.do 1 time for the order
    And the gateway's attempt is "paid"
    And within 20 seconds Ecwid's order is "PAID"
    And Ecwid accepted the payment statuses "AWAITING_PAYMENT, PAID" in that order

    Examples:
      | how     | amount           |
      | in full | the whole amount |
      | in part | 4500.00 AMD      |

  @RC-29 @simulator @desktop
  Scenario: A held payment is cancelled by the operator: the bank releases the hold, Ecwid CANCELLED, never PAID
    Given a customer shopping on a desktop browser in the store that holds payments
    When the customer orders 1 "Apricot jam" and goes to pay
    And pays on the bank page with card "4242424242424242"
    Then after a short wait the customer lands on the store's thank-you page showing "AWAITING_PAYMENT"
    And the bank holds the whole amount: orderStatus 1, approved and nothing deposited
    And Ecwid's order is "AWAITING_PAYMENT"
    When an operator signs in to the console
    And the operator finds the payment by its Ecwid order id
    And the operator reverses the payment and confirms
    Then the console says "Done. Attempt:"
    And the bank released the hold: orderStatus 3, nothing deposited
    And the bank was sent reverse.do 1 time for the order
    And the bank was sent deposit.do 0 times for the order
    And within 20 seconds Ecwid's order is "CANCELLED"
    And Ecwid accepted the payment statuses "AWAITING_PAYMENT, CANCELLED" in that order
    And Ecwid was never told PAID, not even in a refused update
    And the console offers no capture, refund or reverse for the payment any more
