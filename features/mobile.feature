Feature: Paying from a phone
  As a shop owner whose customers mostly buy on their phones, often from a link inside Instagram or Facebook
  I want the bank's page in its mobile view, the way back to the store to work on a phone, and a payment whose
  in-app browser closed before the return to be settled by the server all the same
  So that a phone customer can pay, and a paid order never stays unpaid because the app closed its browser

  @RC-22 @simulator
  Scenario Outline: On a phone the gateway asks the bank for its mobile view, and the payment ends on the store's thank-you page (<device>)
    Given a customer shopping in the store on a <device> browser
    When the customer orders 2 "Apricot jam" and goes to pay
    Then the gateway registered the attempt's bank order with pageView "<view>"
    And the bank's card page fits the screen without sideways scrolling
    When pays on the bank page with card "4242424242424242"
    Then the customer sees the store's thank-you page
    And the page the customer sees fits the screen without sideways scrolling
    And the Ecwid order is "PAID"
    And the gateway asked the bank for the order's status before setting it PAID
    And Ecwid was set to PAID exactly once
    And the bank has 1 new order

    @mobile
    Examples: phones
      | device  | view   |
      | iPhone  | MOBILE |
      | Android | MOBILE |

    @desktop
    Examples: the same payment on a desktop browser, for comparison
      | device  | view    |
      | desktop | DESKTOP |

  @RC-22 @simulator @mobile
  Scenario Outline: On a phone a declined card brings the customer back to checkout, and another card pays (<device>)
    Given a customer shopping in the store on a <device> browser
    When the customer orders 1 "Gata" and goes to pay
    And pays on the bank page with card "4000000000009995"
    Then the customer is back at checkout with the message "insufficient funds"
    And the page the customer sees fits the screen without sideways scrolling
    And the Ecwid order is "INCOMPLETE"
    When the customer pays again with card "4242424242424242"
    Then the customer sees the store's thank-you page
    And the gateway registered the attempt's bank order with pageView "MOBILE"
    And the Ecwid order is "PAID"
    And the bank has 2 new orders

    Examples:
      | device  |
      | iPhone  |
      | Android |

  @RC-22 @simulator @mobile
  Scenario Outline: On a phone the issuer's 3-D Secure challenge fits the screen and the payment is paid (<device>)
    Given a customer shopping in the store on a <device> browser
    When the customer orders 1 "Apricot jam" and goes to pay
    And pays on the bank page with card "4000000000003220"
    Then the customer is shown the issuer's 3-D Secure page
    And the page the customer sees fits the screen without sideways scrolling
    When confirms the 3-D Secure challenge with the code "123456"
    Then the customer sees the store's thank-you page
    And the Ecwid order is "PAID"
    And the bank order of the attempt has orderStatus 2 and actionCode 0
    And the bank has 1 new order

    Examples:
      | device  |
      | iPhone  |
      | Android |

  @RC-23 @simulator @mobile
  Scenario Outline: The <app> in-app browser on an <device> closes right after the card is paid; the bank's callback settles the payment
    Given a customer opens the store in the "<app>" in-app browser on their <device>
    When the customer orders 1 "Lavash" and goes to pay
    And the bank sends the order's callbacks immediately
    And pays on the bank page with card "4242424242424242", and the app closes its browser before the return
    Then the gateway registered the attempt's bank order with pageView "MOBILE"
    And the customer never came back from the bank page to the gateway or the store
    And the bank told the gateway "deposited" with status 1, and the gateway took it
    And the Ecwid order settles at "PAID" within 20 seconds
    And the gateway asked the bank for the order's status before setting it PAID
    And Ecwid was set to PAID exactly once
    When the customer opens the order again later in their phone's own browser and presses pay
    Then the customer ends on the store's thank-you page with "PAID"
    And the bank has 1 new order

    Examples:
      | device  | app       |
      | iPhone  | Instagram |
      | Android | Facebook  |

  @RC-23 @simulator @mobile
  Scenario Outline: The <app> in-app browser on an <device> closes right after the card is paid and the bank's callback is lost; the gateway's poller settles the payment
    Given a customer opens the store in the "<app>" in-app browser on their <device>
    When the customer orders 1 "Duduk" and goes to pay
    And the bank will never send the order's callbacks
    And pays on the bank page with card "4242424242424242", and the app closes its browser before the return
    Then the gateway registered the attempt's bank order with pageView "MOBILE"
    And the customer never came back from the bank page to the gateway or the store
    And no callback of the order was sent
    When the gateway's clock moves past its longest wait between two status checks of an open payment
    Then within 10 seconds the Ecwid order is "PAID"
    And the gateway asked the bank for the order's status before setting it PAID
    And Ecwid was set to PAID exactly once
    When the customer opens the order again later in their phone's own browser and presses pay
    Then the customer ends on the store's thank-you page with "PAID"
    And the bank has 1 new order

    Examples:
      | device  | app       |
      | iPhone  | Facebook  |
      | Android | Instagram |
